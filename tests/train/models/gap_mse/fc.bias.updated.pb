Bfc.bias.updatedJÈfÅ>bà—¾
à½uri>½î{>