// Channeling module
