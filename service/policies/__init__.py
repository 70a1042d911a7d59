"""What Wallguard does on a page: monitor, hide, or hide and reply; which types; tenant rules."""
