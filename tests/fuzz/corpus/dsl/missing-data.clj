(defsymphony "short and missing history" {}
 (weight-equal
  [(filter (moving-average-price {:window 50}) (select-top 1) [(asset "YSHORT") (asset "AAA")])
   (if (> (current-price "ZNONE") 1) [(asset "ZNONE")] [(asset "BBB")])]))
