// BuddyImages module
