/* panda-tui: xterm.js sizes its canvases from the same pixel ratio it draws with.

   xterm.js (inside textual-serve's textual.js) draws each glyph at devicePixelRatio times the font size,
   but gives each canvas the backing size that ResizeObserver reports as devicePixelContentBoxSize.
   Chromium's device emulation (DevTools' device toolbar, Playwright's and Puppeteer's deviceScaleFactor)
   changes devicePixelRatio and leaves devicePixelContentBoxSize at the real screen's pixels: the console
   was drawn 2 or 3 times too large on a canvas of 1x, and cropped (xterm.js issue #4728). Where the two
   disagree by more than the pixel grid's rounding, xterm is given the size devicePixelRatio implies. A real
   screen reports both alike and is left alone. Loaded before textual.js, which creates the observers. */
"use strict";
(() => {
  const Native = window.ResizeObserver;
  if (!Native) {
    return;
  }
  const ROUNDING = 2; // device pixels: snapping to the grid at a fractional ratio moves an edge by one

  function consistent(entry) {
    const css = entry.contentBoxSize && entry.contentBoxSize[0];
    const device = entry.devicePixelContentBoxSize && entry.devicePixelContentBoxSize[0];
    if (!css || !device) {
      return entry;
    }
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(css.inlineSize * ratio);
    const height = Math.round(css.blockSize * ratio);
    if (Math.abs(device.inlineSize - width) <= ROUNDING && Math.abs(device.blockSize - height) <= ROUNDING) {
      return entry;
    }
    return {
      target: entry.target, contentRect: entry.contentRect, borderBoxSize: entry.borderBoxSize,
      contentBoxSize: entry.contentBoxSize,
      devicePixelContentBoxSize: Object.freeze([{inlineSize: width, blockSize: height}]),
    };
  }

  window.ResizeObserver = class extends Native {
    constructor(callback) {
      super((entries, observer) => callback.call(observer, entries.map(consistent), observer));
    }
  };
})();
