"""Pictures of data: trajectory plots, labeled frames and videos."""
