import ReactMarkdown, { type Components } from "react-markdown";

type Node = { type: string; value?: string; children?: Node[] };

/**
 * Raw HTML in a message is shown as the text it is: `<img onerror=…>` reads as typed, never
 * runs. (react-markdown already refuses to render HTML; this keeps it visible rather than dropped.)
 */
function htmlAsText() {
  const walk = (node: Node) => {
    if (node.type === "html") node.type = "text";
    node.children?.forEach(walk);
  };
  return (tree: Node) => walk(tree);
}

const components: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
  img: ({ alt }) => <span>{alt ? `[image: ${alt}]` : "[image]"}</span>,
};

/** Safe Markdown for chat: *actions* in italics, no raw HTML, no remote images. */
export function Markdown({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={[htmlAsText]} components={components}>
      {text}
    </ReactMarkdown>
  );
}
