"""Personal data: sealed per customer, erasable by destroying the customer's key."""
