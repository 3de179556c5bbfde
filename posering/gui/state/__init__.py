"""The client's state and actions in plain Python (no Dear PyGui): tested without a screen."""
