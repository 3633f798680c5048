"""The NATS JetStream bus: streams per topic, durable consumers, dead letters."""
