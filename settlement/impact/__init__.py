"""What the market did for each participant: firm-interval figures per run, summed per period."""
