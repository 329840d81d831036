"""crmcli: a customer-management tool for the terminal over one SQLite file."""

__version__ = "0.1.0"
