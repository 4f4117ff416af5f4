"""The portal: every person of the chain signs in and answers duban on the web (`duban portal`).

Every write calls the same domain functions as the CLI, so the rules, the audit log and the messages
are the same whichever way a change comes in; the signed-in person is the only source of who acts.
"""
