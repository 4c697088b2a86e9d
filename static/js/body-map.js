/*
 * Body map for the ACR 2016 Widespread Pain Index (templates/intake/_body_map.html).
 *
 * The checkboxes #area-<code> are the real control; this script only mirrors them on the drawing:
 * clicking a shape .body-area[data-area] toggles its checkbox (and fires "change"), and any change
 * of a checkbox marks every shape of that area .is-selected and updates #body-map-count.
 * Plain ES2017, no dependencies; load with <script src="..." defer>. No inline handlers (CSP).
 */
(() => {
  'use strict';

  const CHECKBOX_SELECTOR = '.body-map input[type="checkbox"][id^="area-"]';

  const init = () => {
    const shapes = Array.from(document.querySelectorAll('.body-area[data-area]'));
    const shapesByArea = new Map();
    shapes.forEach((shape) => {
      const code = shape.getAttribute('data-area');
      if (!shapesByArea.has(code)) {
        shapesByArea.set(code, []);
      }
      shapesByArea.get(code).push(shape);
    });

    const checkboxes = () => Array.from(document.querySelectorAll(CHECKBOX_SELECTOR));
    const checkboxFor = (code) => document.getElementById(`area-${code}`);
    const codeOf = (checkbox) => checkbox.id.slice('area-'.length);
    const isAreaCheckbox = (element) =>
      element instanceof HTMLInputElement && element.matches(CHECKBOX_SELECTOR);

    const markArea = (code, className, on) => {
      (shapesByArea.get(code) || []).forEach((shape) => shape.classList.toggle(className, on));
    };

    const updateCount = () => {
      const count = document.getElementById('body-map-count');
      if (!count) {
        return;
      }
      const all = checkboxes();
      const selected = all.filter((box) => box.checked).length;
      // The sentence comes translated from the page, with {selected} and {total} to fill in.
      const words = count.dataset.words || '{selected} of {total} areas selected';
      const text = words.replace('{selected}', selected).replace('{total}', all.length);
      if (count.textContent.trim() !== text) {
        count.textContent = text;
      }
    };

    const syncAll = () => {
      checkboxes().forEach((box) => markArea(codeOf(box), 'is-selected', box.checked));
      updateCount();
    };

    shapes.forEach((shape) => {
      const code = shape.getAttribute('data-area');
      shape.addEventListener('click', (event) => {
        const box = checkboxFor(code);
        if (!box || box.disabled) {
          return;
        }
        event.preventDefault();
        box.checked = !box.checked;
        box.dispatchEvent(new Event('change', { bubbles: true }));
      });
      shape.addEventListener('mouseenter', () => markArea(code, 'is-hover', true));
      shape.addEventListener('mouseleave', () => markArea(code, 'is-hover', false));
    });

    document.addEventListener('change', (event) => {
      if (isAreaCheckbox(event.target)) {
        markArea(codeOf(event.target), 'is-selected', event.target.checked);
        updateCount();
      }
    });

    // Show keyboard users which part of the drawing the focused checkbox stands for.
    document.addEventListener('focusin', (event) => {
      if (isAreaCheckbox(event.target)) {
        markArea(codeOf(event.target), 'is-focus', true);
      }
    });
    document.addEventListener('focusout', (event) => {
      if (isAreaCheckbox(event.target)) {
        markArea(codeOf(event.target), 'is-focus', false);
      }
    });

    // A form reset, or the browser restoring the page from its back/forward cache, can change the
    // checkboxes without a "change" event.
    document.addEventListener('reset', () => window.setTimeout(syncAll, 0));
    window.addEventListener('pageshow', syncAll);

    syncAll();
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
