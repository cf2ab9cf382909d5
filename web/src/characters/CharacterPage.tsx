import { characters } from "../api/client";
import { CharacterEditor } from "./CharacterEditor";

/** One of the person's own characters, with its lorebooks. */
export default function CharacterPage({ slug }: { slug: string }) {
  return <CharacterEditor backend={characters} slug={slug} backHref="/" backLabel="All scenarios" />;
}
