"""Video analysis: videos -> pose tables, batched, sharded across Ray actors, resumable."""
