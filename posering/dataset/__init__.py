"""Training datasets: the project's labels gathered, checked and split into shuffles."""
