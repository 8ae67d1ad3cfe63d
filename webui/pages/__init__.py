"""One module per area of the web UI; each has `register(web)`."""
