// The package ships no types; this is the part Parley uses.
declare module "mistral-tokenizer-js" {
  const mistralTokenizer: { encode(prompt: string, addBosToken?: boolean, addPrecedingSpace?: boolean): number[] };
  export default mistralTokenizer;
}
