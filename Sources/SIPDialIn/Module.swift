// SIPDialIn module
