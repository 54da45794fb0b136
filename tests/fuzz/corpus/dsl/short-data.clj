(defsymphony "short history" {}
 (filter (moving-average-price {:window 50}) (select-top 1) [(asset "YSHORT") (asset "AAA")]))
