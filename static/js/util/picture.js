// Buddy picture upload: crop the chosen image to a centred square and scale it to 128×128 with a canvas, then send it
// as a JPEG data URL in Status.buddyPicture (the server stores it and rewrites it to an img: reference).

export const PICTURE_SIZE = 128;

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("This file is not an image the browser can read.")); };
    img.src = url;
  });
}

export async function pictureFromFile(file, size = PICTURE_SIZE) {
  if (!file || !/^image\//.test(file.type)) throw new Error("Please choose an image file.");
  const img = await loadImage(file);
  const side = Math.min(img.naturalWidth, img.naturalHeight);
  if (!side) throw new Error("The image is empty.");
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(img, (img.naturalWidth - side) / 2, (img.naturalHeight - side) / 2, side, side, 0, 0, size, size);
  // JPEG keeps the Status frame small (a few KB), far below the server's size caps.
  return canvas.toDataURL("image/jpeg", 0.85);
}
