"""The Google Cloud Pub/Sub bus: a topic per tipoff topic, a subscription per group, dead-letter topics."""
