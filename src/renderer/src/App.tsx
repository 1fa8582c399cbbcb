/** The console's shell. Its pages arrive with the typed API (see the README's roadmap). */
export function App(): React.JSX.Element {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>Footfall</h1>
      <p>
        The operations console is not built yet. The core runs headless:{' '}
        <code>npx footfall serve</code>, and <code>npx footfall stats</code> shows its counters.
      </p>
    </main>
  )
}
