"""The trust's dashboard: its page, signed links and the Teams tab's single sign-on."""
