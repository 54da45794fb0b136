# Reliability suite (issue #9): kill -9 soak, fault injection, scale-out, lifecycle.
