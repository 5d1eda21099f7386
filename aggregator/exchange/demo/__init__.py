"""Demo data for `make run` (`manage.py load_demo`, `run_market --settle`): participants and
sites, a market priced from real JEPX days, meter data and settlement."""
