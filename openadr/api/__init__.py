"""The VTN's HTTP side: thin views over openadr.selectors and openadr.services."""
