"""What makes Twoway installable on a phone: the manifest, the service worker, the offline page."""
