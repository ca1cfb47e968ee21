"""The trust dashboard's web side: signed links, the page and its data, its charts."""
