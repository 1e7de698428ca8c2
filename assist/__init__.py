"""assist: real-time agent assist for a bank's customer-service call center."""

__version__ = "0.1.0"
