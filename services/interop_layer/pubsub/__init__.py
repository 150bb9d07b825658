"""GovStack IM publish/subscribe: rooms, event types, PUSH and PULL subscriptions."""
