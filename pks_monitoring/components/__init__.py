"""The stack's ComponentResources, one per module."""
