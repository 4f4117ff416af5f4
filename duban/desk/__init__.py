"""A unit's desk: what it owes today (todo, 待办), the requests it signs for (acknowledge, 签收) and their
notices (notices), what is under supervision (supervision, 被督办), and whom it asks (contacts)."""
