"""Writes of the OpenADR façade; market effects go through the market's own services."""
