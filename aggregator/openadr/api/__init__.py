"""The VTN's HTTP side: thin views over aggregator.openadr.selectors and aggregator.openadr.services."""
