// SFU module
