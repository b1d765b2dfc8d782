"""What Twoway sends people, and when: sign-in links and security notices at once, reminders when
they fall due, each by email or Web Push as the person chose.

- ``kinds``: every kind of message, what it is called on the preferences page, its default channel,
  and how a due reminder is found and worded.
- ``passes``: the reminder pass. Beat runs it every minute; ``flask reminders due --at`` runs the
  same code for any moment. It covers (the last run's moment, now], in a fixed number of queries.
- ``outbox``: deliveries are rows claimed under a unique key (person, kind, subject, due moment)
  before anything is sent; that key is what makes a retry, a second beat or a re-run harmless.
- ``sending``: the worker's side: claim, word, send by the chosen channel, retry with backoff.
- ``preferences``: per-kind channels, quiet hours, one-click unsubscribe tokens.

A message never carries what a pair wrote: names, times, places and counts only. A lock screen or
a shared inbox is not a private place.
"""
