(defsymphony "nested" {}
 (if (>= (rsi "CCC" {:window 10}) 70)
   [(asset "DDD")]
   [(if (<= (rsi "CCC" {:window 10}) 30.5)
      [(asset "CCC")]
      [(if (< (cumulative-return "EEE" {:window 15}) -2e0)
         [(weight-equal [(asset "BIL") (asset "EEE")])]
         [(asset "EEE")])])]))
