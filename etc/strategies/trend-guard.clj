;; trend-guard.clj: the project's example of a classic "hold leverage in an
;; up-trend, hedge when overbought, hide in bonds or cash otherwise" strategy.
;; Written for alchemiserd (not exported from Composer); it exercises if,
;; the comparisons and the price indicators. Tickers: SPY QQQ TQQQ SQQQ UVXY
;; TLT BIL XLK.
(defsymphony
 "Trend guard (alchemiserd example)"
 {:asset-class "EQUITIES", :rebalance-frequency :daily}
 (weight-equal
  [(if
    (> (current-price "SPY") (moving-average-price "SPY" {:window 200}))
    ;; Up-trend: step aside when the leveraged fund is stretched.
    [(if
      (>= (rsi "TQQQ" {:window 10}) 79)
      [(asset "UVXY" "ProShares Ultra VIX Short-Term Futures ETF")]
      [(weight-specified
        0.75
        (if
         (> (exponential-moving-average-price "QQQ" {:window 12})
            (moving-average-price "QQQ" {:window 50}))
         [(asset "TQQQ" "ProShares UltraPro QQQ")]
         [(asset "QQQ" "Invesco QQQ Trust")])
        0.25
        (asset "XLK" "Technology Select Sector SPDR"))])]
    ;; Down-trend: buy deep dips, otherwise bonds or cash by their momentum.
    [(if
      (<= (rsi "TQQQ" {:window 10}) 31)
      [(asset "TQQQ" "ProShares UltraPro QQQ")]
      [(if
        (< (cumulative-return "TLT" {:window 20}) (cumulative-return "BIL" {:window 20}))
        [(weight-equal [(asset "BIL" "SPDR 1-3 Month T-Bill ETF") (asset "SQQQ" nil)])]
        [(asset "TLT" "iShares 20+ Year Treasury Bond ETF")])])])]))
