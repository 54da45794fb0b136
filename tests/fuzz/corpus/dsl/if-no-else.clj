(defsymphony "no else" {} (if (> (rsi "AAA" {:window 2}) 1) [(asset "AAA")]))
