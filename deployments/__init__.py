"""What runs when: the schedules of the scheduled flows, read from the plan."""
