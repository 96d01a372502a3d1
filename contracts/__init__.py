"""What the layers agree on: the claim's statuses, queues and routes (enums), the one pydantic
model in and out of every workflow, activity, signal and update, their names, and the workflow
ids. The domain (reclaim/), the workflows, the activities and the API all import this; it imports
none of them."""
