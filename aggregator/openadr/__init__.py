"""An OpenADR 3.1 VTN façade over the market (docs/interop.md): programs, events, reports,
subscriptions, VENs and resources under /openadr3/, with OAuth2 client credentials."""
