"""The kinds of unit the assistant's own workers put on the inbound queue, beside Meta's webhooks."""

ANSWER_KIND = "assistant_answer"  # the question worker's answer
AGENT_MESSAGE = "agent_message"  # an agent's reply from the merchant inbox
AGENT_RELEASE = "agent_release"  # an agent handing the conversation back
CART_REMINDER = "cart_reminder"  # a cart left unordered, due for its one reminder
