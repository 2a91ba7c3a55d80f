// Progressive enhancement only: every page works without it. Loaded as a module from 'self'
// (no inline script, so the Content-Security-Policy can forbid inline script entirely).
import { initAll } from './govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// A print button on claimant papers (without JavaScript the browser's own print still works).
for (const button of document.querySelectorAll('[data-cs-print]')) {
  button.hidden = false
  button.addEventListener('click', () => window.print())
}
