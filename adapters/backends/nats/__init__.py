"""NATS JetStream KV backend, wire-compatible with brainlessdb."""
