;; Stage 2's hand-written WebAssembly SIMD kernels (fine-tuning on tfjs's wasm backend). They work in place on
;; tfjs-wasm's own heap: the module imports the backend's memory, and every pointer is a tensor's byte offset
;; there, so nothing is copied in or out. Tensors are float32, NHWC; the channel loops take 4 floats at a time and
;; need channel counts that are multiples of 4 (simd-kernels.ts checks, and falls back to the composite kernels).
;; No data segments and no globals: instantiating this module writes nothing into the backend's memory.
;; Built into simd-binary.ts by `npm run build:simd` (tools/build-simd.ts); a test checks the two agree.
(module
  (import "env" "memory" (memory 1))

  ;; dx = dy where 0 < x <= max, else 0: the gradient of tfjs-layers' ReLU (clipByValue(relu(x), 0, max); no max:
  ;; Infinity), in one pass instead of five kernels. `n` floats, any n.
  (func (export "reluBackprop") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $max f32)
    (local $vectorEnd i32) (local $end i32) (local $v v128) (local $zero v128) (local $maxima v128) (local $s f32)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $maxima (f32x4.splat (local.get $max)))
    (local.set $vectorEnd (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $x) (local.get $vectorEnd)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $dx)
          (v128.and
            (v128.load (local.get $dy))
            (v128.and (f32x4.gt (local.get $v) (local.get $zero)) (f32x4.le (local.get $v) (local.get $maxima)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (br $vectors)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (f32.store (local.get $dx)
          (select (f32.load (local.get $dy)) (f32.const 0)
            (i32.and (f32.gt (local.get $s) (f32.const 0)) (f32.le (local.get $s) (local.get $max)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
        (br $tail))))

  ;; y = x * scale + shift per channel (BatchNormalization in inference mode), `rows` rows of `channels` floats:
  ;; the same two roundings as tf.add(tf.mul(x, scale), shift), in one pass.
  (func (export "scaleShift") (param $x i32) (param $scale i32) (param $shift i32) (param $y i32)
      (param $rows i32) (param $channels i32)
    (local $rowBytes i32) (local $c i32) (local $end i32)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channelLoop
          (v128.store (i32.add (local.get $y) (local.get $c))
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $scale) (local.get $c))))
              (v128.load (i32.add (local.get $shift) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channelLoop (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $rowBytes)))
        (br $rowLoop))))

  ;; The gradients of y = x * scale + shift: dscale[c] = sum over rows of dy * x, dshift[c] = sum of dy, and (when
  ;; $dx is not 0) dx = dy * scale. One pass over x and dy; the sums run in row order.
  (func (export "scaleShiftBackprop") (param $x i32) (param $dy i32) (param $scale i32) (param $dx i32)
      (param $dscale i32) (param $dshift i32) (param $rows i32) (param $channels i32)
    (local $rowBytes i32) (local $c i32) (local $end i32) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (local.set $c (i32.const 0))
    (loop $zero
      (v128.store (i32.add (local.get $dscale) (local.get $c)) (v128.const i32x4 0 0 0 0))
      (v128.store (i32.add (local.get $dshift) (local.get $c)) (v128.const i32x4 0 0 0 0))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br_if $zero (i32.lt_u (local.get $c) (local.get $rowBytes))))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $channelLoop
          (local.set $d (v128.load (i32.add (local.get $dy) (local.get $c))))
          (v128.store (i32.add (local.get $dscale) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $dscale) (local.get $c)))
              (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $x) (local.get $c))))))
          (v128.store (i32.add (local.get $dshift) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $dshift) (local.get $c))) (local.get $d)))
          (if (local.get $dx)
            (then
              (v128.store (i32.add (local.get $dx) (local.get $c))
                (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $scale) (local.get $c)))))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $channelLoop (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dy (i32.add (local.get $dy) (local.get $rowBytes)))
        (if (local.get $dx) (then (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))))
        (br $rowLoop))))

  ;; A matrix product for the pointwise (1x1) convolutions of stage 2, forward and backward: out[i, j] = sum over k of
  ;; A(i, k) * B(k, j), out row-major [m, n], B row-major [k, n], A(i, k) at byte $a + i*$aI + k*$aK, so A may be read
  ;; transposed (the filter gradient x^T dy: its rows are the batch's pixels, thousands, so neither operand is small
  ;; enough for XNNPACK's fully connected op, which packs and transposes its weights operand on every call). Tiles of
  ;; 4 x 8 outputs stay in registers over blocks of $kBlock values of k (so that a block of B stays in cache); rows
  ;; past a multiple of 4 go one at a time. n % 8 == 0. The sums run in k order.
  (func (export "matmul") (param $a i32) (param $aI i32) (param $aK i32) (param $b i32) (param $out i32)
      (param $m i32) (param $k i32) (param $n i32) (param $kBlock i32)
    (local $rowBytes i32) (local $k0 i32) (local $kk i32) (local $kEnd i32) (local $i i32) (local $j i32)
    (local $ap i32) (local $bp i32) (local $op i32) (local $end i32) (local $mTiled i32)
    (local $aI2 i32) (local $aI3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $aI2 (i32.shl (local.get $aI) (i32.const 1)))
    (local.set $aI3 (i32.add (local.get $aI2) (local.get $aI)))
    (local.set $mTiled (i32.and (local.get $m) (i32.const -4)))
    (local.set $op (local.get $out))
    (local.set $end (i32.add (local.get $out) (i32.mul (local.get $m) (local.get $rowBytes))))
    (loop $zero
      (v128.store (local.get $op) (v128.const i32x4 0 0 0 0))
      (local.set $op (i32.add (local.get $op) (i32.const 16)))
      (br_if $zero (i32.lt_u (local.get $op) (local.get $end))))
    (local.set $k0 (i32.const 0))
    (loop $kBlocks
      (local.set $kEnd (i32.add (local.get $k0) (local.get $kBlock)))
      (local.set $kEnd (select (local.get $k) (local.get $kEnd) (i32.gt_s (local.get $kEnd) (local.get $k))))
      ;; Tiles of 4 rows.
      (local.set $i (i32.const 0))
      (block $tilesDone
        (loop $rowTiles
          (br_if $tilesDone (i32.ge_s (local.get $i) (local.get $mTiled)))
          (local.set $j (i32.const 0))
          (loop $columnTiles
            (local.set $op (i32.add (local.get $out)
              (i32.add (i32.mul (local.get $i) (local.get $rowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $a0 (v128.load (local.get $op)))
            (local.set $a1 (v128.load offset=16 (local.get $op)))
            (local.set $a2 (v128.load (i32.add (local.get $op) (local.get $rowBytes))))
            (local.set $a3 (v128.load offset=16 (i32.add (local.get $op) (local.get $rowBytes))))
            (local.set $a4 (v128.load (i32.add (local.get $op) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $a5 (v128.load offset=16 (i32.add (local.get $op) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $a6 (v128.load (i32.add (local.get $op) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $a7 (v128.load offset=16 (i32.add (local.get $op) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $ap (i32.add (local.get $a)
              (i32.add (i32.mul (local.get $i) (local.get $aI)) (i32.mul (local.get $k0) (local.get $aK)))))
            (local.set $bp (i32.add (local.get $b)
              (i32.add (i32.mul (local.get $k0) (local.get $rowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $kk (local.get $k0))
            (loop $products
              (local.set $d0 (v128.load (local.get $bp)))
              (local.set $d1 (v128.load offset=16 (local.get $bp)))
              (local.set $s (v128.load32_splat (local.get $ap)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $aI))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $aI2))))
              (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $aI3))))
              (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $ap (i32.add (local.get $ap) (local.get $aK)))
              (local.set $bp (i32.add (local.get $bp) (local.get $rowBytes)))
              (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
              (br_if $products (i32.lt_s (local.get $kk) (local.get $kEnd))))
            (v128.store (local.get $op) (local.get $a0))
            (v128.store offset=16 (local.get $op) (local.get $a1))
            (v128.store (i32.add (local.get $op) (local.get $rowBytes)) (local.get $a2))
            (v128.store offset=16 (i32.add (local.get $op) (local.get $rowBytes)) (local.get $a3))
            (v128.store (i32.add (local.get $op) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $a4))
            (v128.store offset=16 (i32.add (local.get $op) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $a5))
            (v128.store (i32.add (local.get $op) (i32.mul (local.get $rowBytes) (i32.const 3))) (local.get $a6))
            (v128.store offset=16 (i32.add (local.get $op) (i32.mul (local.get $rowBytes) (i32.const 3))) (local.get $a7))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br_if $columnTiles (i32.lt_s (local.get $j) (local.get $n))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $rowTiles)))
      ;; The rows left over, one at a time.
      (block $rowsDone
        (loop $rows
          (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
          (local.set $j (i32.const 0))
          (loop $columnTiles
            (local.set $op (i32.add (local.get $out)
              (i32.add (i32.mul (local.get $i) (local.get $rowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $a0 (v128.load (local.get $op)))
            (local.set $a1 (v128.load offset=16 (local.get $op)))
            (local.set $ap (i32.add (local.get $a)
              (i32.add (i32.mul (local.get $i) (local.get $aI)) (i32.mul (local.get $k0) (local.get $aK)))))
            (local.set $bp (i32.add (local.get $b)
              (i32.add (i32.mul (local.get $k0) (local.get $rowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $kk (local.get $k0))
            (loop $products
              (local.set $s (v128.load32_splat (local.get $ap)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $bp)))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $bp)))))
              (local.set $ap (i32.add (local.get $ap) (local.get $aK)))
              (local.set $bp (i32.add (local.get $bp) (local.get $rowBytes)))
              (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
              (br_if $products (i32.lt_s (local.get $kk) (local.get $kEnd))))
            (v128.store (local.get $op) (local.get $a0))
            (v128.store offset=16 (local.get $op) (local.get $a1))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br_if $columnTiles (i32.lt_s (local.get $j) (local.get $n))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows)))
      (local.set $k0 (local.get $kEnd))
      (br_if $kBlocks (i32.lt_s (local.get $k0) (local.get $k)))))

  ;; Both gradients of a depthwise convolution (depth multiplier 1, dilation 1) of x [n, h, w, c] with a filter
  ;; [kh, kw, c] giving dy [n, oh, ow, c]; tap (i, j) of output (b, oy, ox) reads x[b, oy*sh + i - top, ox*sw + j -
  ;; left, c], taps outside x left out (zero padding). One walk over the taps serves both:
  ;;   $wantInput 0: the filter gradient, $taps = dfilter, $image = x: dfilter[i, j, c] += x[tap] * dy[b, oy, ox, c];
  ;;   $wantInput 1: the input gradient, $taps = filter, $image = dx: dx[tap] += filter[i, j, c] * dy[b, oy, ox, c].
  ;; What is accumulated into (dfilter, or dx) starts at zero; the sums run in (b, oy, ox, i, j) order.
  (func (export "depthwiseBackprop") (param $wantInput i32) (param $image i32) (param $dy i32) (param $taps i32)
      (param $n i32) (param $h i32) (param $w i32) (param $channels i32) (param $oh i32) (param $ow i32)
      (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $pixelBytes i32) (local $rowBytes i32) (local $c i32) (local $b i32) (local $oy i32) (local $ox i32)
    (local $iy0 i32) (local $ix0 i32) (local $iLo i32) (local $iHi i32) (local $jLo i32) (local $jHi i32)
    (local $i i32) (local $j i32) (local $imageRow i32) (local $ip i32) (local $tp i32) (local $d i32)
    (local $zeroFrom i32) (local $zeroTo i32)
    (local.set $pixelBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $w) (local.get $pixelBytes)))
    (if (local.get $wantInput)
      (then
        (local.set $zeroFrom (local.get $image))
        (local.set $zeroTo (i32.add (local.get $image) (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $rowBytes)))))
      (else
        (local.set $zeroFrom (local.get $taps))
        (local.set $zeroTo (i32.add (local.get $taps) (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $pixelBytes))))))
    (loop $zero
      (v128.store (local.get $zeroFrom) (v128.const i32x4 0 0 0 0))
      (local.set $zeroFrom (i32.add (local.get $zeroFrom) (i32.const 16)))
      (br_if $zero (i32.lt_u (local.get $zeroFrom) (local.get $zeroTo))))
    (local.set $d (local.get $dy))
    (local.set $b (i32.const 0))
    (loop $batch
      (local.set $oy (i32.const 0))
      (loop $outRow
        (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $top)))
        (local.set $iLo (select (i32.sub (i32.const 0) (local.get $iy0)) (i32.const 0) (i32.lt_s (local.get $iy0) (i32.const 0))))
        (local.set $iHi (i32.sub (local.get $h) (local.get $iy0)))
        (local.set $iHi (select (local.get $kh) (local.get $iHi) (i32.gt_s (local.get $iHi) (local.get $kh))))
        (local.set $ox (i32.const 0))
        (loop $outColumn
          (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $left)))
          (local.set $jLo (select (i32.sub (i32.const 0) (local.get $ix0)) (i32.const 0) (i32.lt_s (local.get $ix0) (i32.const 0))))
          (local.set $jHi (i32.sub (local.get $w) (local.get $ix0)))
          (local.set $jHi (select (local.get $kw) (local.get $jHi) (i32.gt_s (local.get $jHi) (local.get $kw))))
          (local.set $i (local.get $iLo))
          (block $tapRowsDone
            (loop $tapRow
              (br_if $tapRowsDone (i32.ge_s (local.get $i) (local.get $iHi)))
              (local.set $imageRow (i32.add (local.get $image)
                (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.add (local.get $iy0) (local.get $i))) (local.get $rowBytes))))
              (local.set $j (local.get $jLo))
              (block $tapsDone
                (loop $tap
                  (br_if $tapsDone (i32.ge_s (local.get $j) (local.get $jHi)))
                  (local.set $ip (i32.add (local.get $imageRow) (i32.mul (i32.add (local.get $ix0) (local.get $j)) (local.get $pixelBytes))))
                  (local.set $tp (i32.add (local.get $taps)
                    (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $pixelBytes))))
                  (local.set $c (i32.const 0))
                  (if (local.get $wantInput)
                    (then
                      (loop $intoImage
                        (v128.store (i32.add (local.get $ip) (local.get $c))
                          (f32x4.add (v128.load (i32.add (local.get $ip) (local.get $c)))
                            (f32x4.mul (v128.load (i32.add (local.get $tp) (local.get $c))) (v128.load (i32.add (local.get $d) (local.get $c))))))
                        (local.set $c (i32.add (local.get $c) (i32.const 16)))
                        (br_if $intoImage (i32.lt_u (local.get $c) (local.get $pixelBytes)))))
                    (else
                      (loop $intoTaps
                        (v128.store (i32.add (local.get $tp) (local.get $c))
                          (f32x4.add (v128.load (i32.add (local.get $tp) (local.get $c)))
                            (f32x4.mul (v128.load (i32.add (local.get $ip) (local.get $c))) (v128.load (i32.add (local.get $d) (local.get $c))))))
                        (local.set $c (i32.add (local.get $c) (i32.const 16)))
                        (br_if $intoTaps (i32.lt_u (local.get $c) (local.get $pixelBytes))))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br $tap)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $tapRow)))
          (local.set $d (i32.add (local.get $d) (local.get $pixelBytes)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br_if $outColumn (i32.lt_s (local.get $ox) (local.get $ow))))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br_if $outRow (i32.lt_s (local.get $oy) (local.get $oh))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $batch (i32.lt_s (local.get $b) (local.get $n))))))
