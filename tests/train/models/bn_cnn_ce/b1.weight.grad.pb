Bb1.weight.gradJ î
¼qä¼o–X»‚Íˆ; {¼ßðA;MÒ)<®{›<