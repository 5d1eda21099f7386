"""Document renderers: qualified invoices and statements (PDF, CSV) from plain dataclasses.

No database access: the settlement side builds `InvoiceDoc` / `StatementDoc` and calls
`render_invoice_pdf`, `render_statement_pdf` or `render_statement_csv`; `tax_summary`
gives the per-rate totals it may also store.
"""
