"""The shop assistant: the conversation a customer has with a shop in the messenger."""
