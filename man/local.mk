# Man-page checks (issue #8): groff renders without warnings, every config key documented.
