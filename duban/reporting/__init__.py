"""The monthly reporting round: township -> lead department -> Office."""
