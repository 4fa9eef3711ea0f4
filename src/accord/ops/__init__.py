"""Running the hub as a service: health and readiness, Prometheus metrics, JSON logs with request ids, the
multi-worker server, and moving data between stores (migrate, backup, restore)."""
